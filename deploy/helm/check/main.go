// Command check decodes every object of a rendered chart (helm template's
// output, on standard input) strictly against the Kubernetes API types, as
// the API server's strict field validation would: an unknown or duplicate
// field, a wrong type or an unknown kind is an error. It also checks what
// the API server would refuse on apply and strict decoding cannot see:
// names, labels, workload selectors that miss their pods' labels, mounts of
// volumes that are not declared, volumes with no source.
//
//	helm template rel deploy/helm/damselfly | go run ./deploy/helm/check
//
// Prints one line per object; exits 1 when anything is wrong.
package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

func newDecoder() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, appsv1.AddToScheme, policyv1.AddToScheme, monitoringv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}

// checkPod reports what the API server would refuse in a pod template.
func checkPod(selector *metav1.LabelSelector, tpl corev1.PodTemplateSpec) []string {
	var problems []string
	if selector != nil {
		s, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			problems = append(problems, fmt.Sprintf("selector: %v", err))
		} else if !s.Matches(labels.Set(tpl.Labels)) {
			problems = append(problems, fmt.Sprintf("selector %s does not match the pod template's labels %v", s, tpl.Labels))
		}
	}
	volumes := map[string]bool{}
	for _, v := range tpl.Spec.Volumes {
		volumes[v.Name] = true
		if v.VolumeSource == (corev1.VolumeSource{}) {
			problems = append(problems, fmt.Sprintf("volume %q has no source", v.Name))
		}
	}
	return append(problems, checkContainers(volumes, append(tpl.Spec.InitContainers, tpl.Spec.Containers...))...)
}

func checkContainers(volumes map[string]bool, containers []corev1.Container) []string {
	var problems []string
	for _, c := range containers {
		for _, m := range c.VolumeMounts {
			if !volumes[m.Name] {
				problems = append(problems, fmt.Sprintf("container %s mounts volume %q, which the pod does not declare", c.Name, m.Name))
			}
		}
		for _, p := range c.Ports {
			if p.Name != "" {
				for _, msg := range validation.IsValidPortName(p.Name) {
					problems = append(problems, fmt.Sprintf("container %s: port name %q: %s", c.Name, p.Name, msg))
				}
			}
		}
	}
	return problems
}

func checkMeta(meta metav1.ObjectMeta) []string {
	var problems []string
	for _, msg := range validation.IsDNS1123Subdomain(meta.Name) {
		problems = append(problems, fmt.Sprintf("name: %s", msg))
	}
	for k, v := range meta.Labels {
		for _, msg := range append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...) {
			problems = append(problems, fmt.Sprintf("label %s=%s: %s", k, v, msg))
		}
	}
	return problems
}

func check(decoder runtime.Decoder, doc []byte) (string, []string) {
	// sigs.k8s.io/yaml's strict conversion refuses duplicate keys, which JSON decoding would let pass
	data, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return "?", []string{err.Error()}
	}
	obj, gvk, err := decoder.Decode(data, nil, nil)
	what := "?"
	if gvk != nil {
		what = gvk.Kind
	}
	if err != nil {
		return what, []string{err.Error()}
	}
	var problems []string
	switch o := obj.(type) {
	case *appsv1.DaemonSet:
		what += "/" + o.Name
		problems = append(checkMeta(o.ObjectMeta), checkPod(o.Spec.Selector, o.Spec.Template)...)
	case *appsv1.StatefulSet:
		what += "/" + o.Name
		for _, claim := range o.Spec.VolumeClaimTemplates {
			// a claim template is a volume of every pod
			o.Spec.Template.Spec.Volumes = append(o.Spec.Template.Spec.Volumes, corev1.Volume{Name: claim.Name, VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim.Name}}})
		}
		problems = append(checkMeta(o.ObjectMeta), checkPod(o.Spec.Selector, o.Spec.Template)...)
	case *appsv1.Deployment:
		what += "/" + o.Name
		problems = append(checkMeta(o.ObjectMeta), checkPod(o.Spec.Selector, o.Spec.Template)...)
	case metav1.Object:
		what += "/" + o.GetName()
		problems = checkMeta(metav1.ObjectMeta{Name: o.GetName(), Labels: o.GetLabels()})
	}
	return what, problems
}

func run(in io.Reader, out io.Writer) error {
	decoder := newDecoder()
	reader := utilyaml.NewYAMLReader(bufio.NewReader(in))
	var failed []string
	objects := 0
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(stripComments(doc))) == 0 {
			continue
		}
		objects++
		what, problems := check(decoder, doc)
		if len(problems) == 0 {
			fmt.Fprintf(out, "ok %s\n", what)
			continue
		}
		for _, p := range problems {
			fmt.Fprintf(out, "error %s: %s\n", what, p)
		}
		failed = append(failed, what)
	}
	if objects == 0 {
		return errors.New("no objects on standard input")
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d objects would be refused: %s", len(failed), objects, strings.Join(failed, ", "))
	}
	fmt.Fprintf(out, "%d objects decoded strictly\n", objects)
	return nil
}

func stripComments(doc []byte) []byte {
	var kept []string
	for _, line := range strings.Split(string(doc), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "#") {
			kept = append(kept, line)
		}
	}
	return []byte(strings.Join(kept, "\n"))
}

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
