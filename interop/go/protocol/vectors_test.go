package protocol

import "testing"

func TestVectors(t *testing.T) {
	checked, errs := CheckVectors("../../vectors/vectors.json")
	for _, err := range errs {
		t.Error(err)
	}
	t.Logf("checked %v", checked)
}
