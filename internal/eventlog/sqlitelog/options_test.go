package sqlitelog

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr []string // substrings of the error; none means valid
	}{
		{name: "defaults", opts: Options{}},
		{name: "custom", opts: Options{BusyTimeout: time.Second, PollInterval: time.Millisecond, ReadConns: 1, DefaultReadLimit: 1, MmapSize: -1, FullSync: true}},
		{name: "busy timeout below a millisecond", opts: Options{BusyTimeout: time.Microsecond}, wantErr: []string{"BusyTimeout"}},
		{name: "negative poll interval", opts: Options{PollInterval: -time.Second}, wantErr: []string{"PollInterval"}},
		{name: "every field wrong", opts: Options{BusyTimeout: -1, PollInterval: -1, ReadConns: -1, DefaultReadLimit: -1, ReadCacheKiB: -1},
			wantErr: []string{"BusyTimeout", "PollInterval", "ReadConns", "DefaultReadLimit", "ReadCacheKiB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := tt.opts
			o.setDefaults()
			err := o.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Validate = nil, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %q, want it to mention %s", err, w)
				}
			}
		})
	}
}

func TestOptionsSetDefaults(t *testing.T) {
	t.Parallel()
	var o Options
	o.setDefaults()
	want := Options{BusyTimeout: 5 * time.Second, PollInterval: 200 * time.Millisecond, ReadConns: 4, DefaultReadLimit: 1000, MmapSize: 256 << 20, ReadCacheKiB: 1024}
	if o != want {
		t.Fatalf("setDefaults = %+v, want %+v", o, want)
	}
}
