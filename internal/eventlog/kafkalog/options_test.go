package kafkalog

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestOptionsTopic(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ prefix, want string }{
		{"", "backlot.catalog.events.v1"},
		{"staging.backlot.", "staging.backlot.catalog.events.v1"},
	} {
		if got := (Options{TopicPrefix: tt.prefix}).Topic(); got != tt.want {
			t.Errorf("Options{TopicPrefix: %q}.Topic() = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	brokers := []string{"127.0.0.1:9092"}
	tests := []struct {
		name    string
		opts    Options
		wantErr []string // substrings of the error; none means valid
	}{
		{name: "defaults", opts: Options{Brokers: brokers}},
		{name: "no brokers", opts: Options{}, wantErr: []string{"Brokers"}},
		{name: "empty broker", opts: Options{Brokers: []string{"a:1", " "}}, wantErr: []string{"Brokers"}},
		{name: "negative partitions", opts: Options{Brokers: brokers, Partitions: -1}, wantErr: []string{"Partitions"}},
		{name: "heartbeat not shorter than session", opts: Options{Brokers: brokers,
			GroupSessionTimeout: time.Second, GroupHeartbeatInterval: time.Second}, wantErr: []string{"GroupHeartbeatInterval"}},
		{name: "every field wrong", opts: Options{
			Partitions: -1, ReplicationFactor: -1, MaxBatchBytes: -1, FetchMaxBytes: -1, DefaultReadLimit: -1,
			DialTimeout: -1, ConnectTimeout: -1, WriteTimeout: -1, ReadTimeout: -1, LongPollWait: -1, MetadataTTL: -1,
			GroupSessionTimeout: -1, GroupHeartbeatInterval: -1, GroupRebalanceTimeout: -1, GroupJoinBackoff: -1,
		}, wantErr: []string{"Brokers", "Partitions", "ReplicationFactor", "MaxBatchBytes", "FetchMaxBytes",
			"DefaultReadLimit", "DialTimeout", "ConnectTimeout", "WriteTimeout", "ReadTimeout", "LongPollWait",
			"MetadataTTL", "GroupSessionTimeout", "GroupHeartbeatInterval", "GroupRebalanceTimeout", "GroupJoinBackoff"}},
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
	if o.Logger == nil {
		t.Error("setDefaults left Logger nil")
	}
	o.Logger = nil
	want := Options{
		TopicPrefix: "backlot.", Partitions: 12, ReplicationFactor: 3, ClientID: "backlot",
		DialTimeout: 5 * time.Second, ConnectTimeout: 30 * time.Second, WriteTimeout: 10 * time.Second,
		ReadTimeout: 10 * time.Second, MaxBatchBytes: 900 << 10, FetchMaxBytes: 8 << 20, DefaultReadLimit: 1000,
		LongPollWait: 2 * time.Second, MetadataTTL: 2 * time.Second,
		GroupSessionTimeout: 6 * time.Second, GroupHeartbeatInterval: time.Second,
		GroupRebalanceTimeout: 10 * time.Second, GroupJoinBackoff: time.Second,
	}
	if !reflect.DeepEqual(o, want) {
		t.Fatalf("setDefaults =\n%+v\nwant\n%+v", o, want)
	}
}
