// Writes config.schema.json, the config file's JSON Schema for editors, and
// docs/configuration.md, the reference of every setting, from the declaration in
// src/config-schema.ts (built into dist/). test/config-schema.spec.ts fails when they differ.
import { writeFile } from 'node:fs/promises'
import { configJsonSchemaText, configReferenceMarkdown } from '../dist/config-schema.js'

await writeFile(new URL('../config.schema.json', import.meta.url), configJsonSchemaText())
await writeFile(new URL('../../../docs/configuration.md', import.meta.url), configReferenceMarkdown())
