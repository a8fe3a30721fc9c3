package permission

import "testing"

func TestDefaultCompiles(t *testing.T) {
	e, err := Default(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Params()["platformGroup"]; got != "group:default/platform" {
		t.Errorf("platformGroup = %q", got)
	}
}
