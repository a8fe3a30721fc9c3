package catalog

import (
	"encoding/json"
	"reflect"
	"testing"
)

var decodeCases = []string{
	`{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"a","tags":["go","x"]},"spec":{"n":3,"f":-1.5e3,"z":0,"b":true,"c":false,"nil":null,"e":[],"o":{}}}`,
	" { \"a\" : [ 1 , { \"b\" : \"c\" } ] } ",
	`{"a":1,"a":2}`,
	`{"utf8":"café ☕"}`,
	`{"escaped":"say \"hi\" \u00e9 \n"}`,
	"{\"bad\":\"\xff\"}",
	"{\"ctl\":\"a\x01\"}",
	`{"big":1e400}`,
	`{"lead":01}`,
	`{"frac":1.}`,
	`{"exp":1e}`,
	`{"minus":-}`,
	`{"a":1} x`,
	`{"a":1,}`,
	`[1]`,
	`"s"`,
	`null`,
	``,
	`{"a":tru}`,
}

func TestDecodeJSONObjectMatchesUnmarshal(t *testing.T) {
	t.Parallel()
	for _, c := range decodeCases {
		var want map[string]any
		wantErr := json.Unmarshal([]byte(c), &want)
		got, err := DecodeJSONObject([]byte(c))
		if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Errorf("%q: error %v, want %v", c, err, wantErr)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q: %#v, want %#v", c, got, want)
		}
	}
	d := newJSONDecoder([]byte(decodeCases[0]))
	if _, ok := d.object(0); !ok {
		t.Error("a plain body did not take the one-pass path")
	}
}

func FuzzDecodeJSONObject(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var want map[string]any
		wantErr := json.Unmarshal(data, &want)
		got, err := DecodeJSONObject(data)
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: error %v, want %v", data, err, wantErr)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: %#v, want %#v", data, got, want)
		}
	})
}

// TestDecodeJSONObjectCopiesTheTextOnce checks that the keys and string
// values of a plain body share one copy of its text: decoding ten members
// allocates the copy, the map and the ten values' interface boxes, not a
// string for each of the twenty keys and values.
func TestDecodeJSONObjectCopiesTheTextOnce(t *testing.T) {
	raw := []byte(`{"key0":"value0","key1":"value1","key2":"value2","key3":"value3","key4":"value4",` +
		`"key5":"value5","key6":"value6","key7":"value7","key8":"value8","key9":"value9"}`)
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := DecodeJSONObject(raw); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 20 {
		t.Errorf("decoding ten string members allocated %.0f times, want at most 20 (one copy of the text, the map as it grows, the values' boxes)", allocs)
	}
}
