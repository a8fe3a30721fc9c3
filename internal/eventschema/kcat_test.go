package eventschema_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"backlot.dev/backlot/internal/app"
	"backlot.dev/backlot/internal/eventlog/kafkalog/kafkatest"
	"backlot.dev/backlot/internal/eventschema"
	"backlot.dev/backlot/internal/testenv/pgtest"
)

// kcatRecord is one line of `kcat -J`: the record with its headers, key and
// value as text (null for a null key or value).
type kcatRecord struct {
	Topic     string          `json:"topic"`
	Partition int32           `json:"partition"`
	Offset    int64           `json:"offset"`
	Headers   json.RawMessage `json:"headers"`
	Key       *string         `json:"key"`
	Payload   *string         `json:"payload"`
}

// headers decodes kcat's headers, printed as a flat [name, value, …] array (an
// object in some versions); a header kcat prints as null has an empty value.
func (r kcatRecord) headers() (map[string]string, error) {
	out := map[string]string{}
	if len(r.Headers) == 0 || string(r.Headers) == "null" {
		return out, nil
	}
	var flat []*string
	if err := json.Unmarshal(r.Headers, &flat); err == nil {
		if len(flat)%2 != 0 {
			return nil, fmt.Errorf("odd header list %s", r.Headers)
		}
		for i := 0; i < len(flat); i += 2 {
			if flat[i] == nil {
				return nil, fmt.Errorf("a header without a name in %s", r.Headers)
			}
			v := ""
			if flat[i+1] != nil {
				v = *flat[i+1]
			}
			out[*flat[i]] = v
		}
		return out, nil
	}
	var obj map[string]*string
	if err := json.Unmarshal(r.Headers, &obj); err != nil {
		return nil, fmt.Errorf("headers %s: %w", r.Headers, err)
	}
	for k, v := range obj {
		if v != nil {
			out[k] = *v
		}
	}
	return out, nil
}

// kcat reads topic from the beginning to its end with the kcat binary and
// returns its records.
func kcat(t *testing.T, bin string, brokers []string, topic string) []kcatRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-b", strings.Join(brokers, ","), "-C", "-t", topic, "-o", "beginning", "-e", "-J", "-q")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.Bytes())
	}
	var out []kcatRecord
	for _, line := range bytes.Split(stdout.Bytes(), []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r kcatRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("kcat printed a line that is not its JSON envelope: %v: %s", err, line)
		}
		if r.Topic != topic {
			t.Fatalf("kcat printed a record of topic %q reading %s", r.Topic, topic)
		}
		out = append(out, r)
	}
	return out
}

// validateAll validates every record with ValidateKafkaRecord and returns how
// many records each key has.
func validateAll(t *testing.T, records []kcatRecord) map[string]int {
	t.Helper()
	v := eventschema.Default()
	keys := map[string]int{}
	for _, r := range records {
		where := fmt.Sprintf("%s partition %d offset %d", r.Topic, r.Partition, r.Offset)
		h, err := r.headers()
		if err != nil {
			t.Errorf("%s: %v", where, err)
			continue
		}
		if r.Key == nil {
			t.Errorf("%s: a record without a key", where)
			continue
		}
		var value []byte
		if r.Payload != nil {
			value = []byte(*r.Payload)
		}
		if err := v.ValidateKafkaRecord(r.Topic, h, []byte(*r.Key), value); err != nil {
			t.Errorf("%s: %v", where, err)
		}
		keys[*r.Key]++
	}
	return keys
}

// TestKcatReadsBothTopicsAndEveryRecordValidates runs `backlot serve` on an
// in-process Kafka cluster (or BACKLOT_TEST_KAFKA_BROKERS) and PostgreSQL with
// the example catalog, reads the history and the state topic with the kcat
// binary, as a consuming service without Backlot's code would, and validates the
// headers, key and value of every record against the published schemas.
func TestKcatReadsBothTopicsAndEveryRecordValidates(t *testing.T) {
	bin, err := exec.LookPath("kcat")
	if err != nil {
		t.Fatal("kcat not found: install kcat (apt-get install kcat) or run make test")
	}
	catalogFile, err := filepath.Abs("../../examples/catalog/all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The example policy too, so the topics carry facts and badge events.
	policyFile, err := filepath.Abs("../../examples/policies/test-certification.yaml")
	if err != nil {
		t.Fatal(err)
	}
	brokers := kafkatest.Brokers(t)
	prefix := kafkatest.TopicPrefix(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	s, err := app.StartServe(ctx, app.ServeConfig{
		Addr: "127.0.0.1:0", KafkaBrokers: brokers, TopicPrefix: prefix, Group: prefix + "projector",
		Partitions: 6, ReplicationFactor: 1, PostgresURL: pgtest.URL(t), Catalogs: []string{catalogFile, policyFile},
		RefreshInterval: time.Hour, DataDir: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	select {
	case <-s.Loaded():
	case <-time.After(90 * time.Second):
		t.Fatal("catalogs not loaded within 90s")
	}
	if err := s.LoadErr(); err != nil {
		t.Fatal(err)
	}
	refs := servedRefs(t, s.Addr())
	if len(refs) < 50 {
		t.Fatalf("the server answers %d entities, want the example catalog's (at least 50)", len(refs))
	}

	waitForBadges(t, s.Addr())
	history := kcat(t, bin, brokers, prefix+eventschema.HistoryTopic)
	keys := validateAll(t, history)
	types := map[string]int{}
	for _, r := range history {
		if h, err := r.headers(); err == nil {
			types[h["ce_type"]]++
		}
	}
	for _, typ := range []string{"backlot.badge.awarded.v1", "backlot.facts.reported.v1"} {
		if types[typ] == 0 {
			t.Errorf("the history topic has no %s record: %v", typ, types)
		}
	}
	for _, ref := range refs {
		if keys[ref] == 0 {
			t.Errorf("the history topic has no event of %s", ref)
		}
	}
	if len(history) < len(refs) {
		t.Errorf("the history topic has %d records for %d entities", len(history), len(refs))
	}

	// The state topic is written after the read model applied each event: read
	// it again until every entity is there.
	var state []kcatRecord
	var missing []string
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		state = kcat(t, bin, brokers, prefix+eventschema.StateTopic)
		seen := map[string]bool{}
		for _, r := range state {
			if r.Key != nil {
				seen[*r.Key] = true
			}
		}
		missing = slices.DeleteFunc(slices.Clone(refs), func(r string) bool { return seen[r] })
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
	}
	if len(missing) > 0 {
		t.Errorf("after 60s the state topic has no record of %d entities: %v", len(missing), missing)
	}
	validateAll(t, state)
	if len(state) < len(refs) {
		t.Errorf("the state topic has %d records for %d entities", len(state), len(refs))
	}
	t.Logf("kcat read %d history records and %d state records for %d entities; all validate", len(history), len(state), len(refs))
}

// servedRefs returns the canonical refs of every entity the API answers.
func servedRefs(t *testing.T, addr string) []string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/catalog/entities")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ents []struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name      string `json:"name"`
			Namespace string `json:"namespace"`
		} `json:"metadata"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ents); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/catalog/entities: %d, %v", resp.StatusCode, err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, strings.ToLower(e.Kind+":"+e.Metadata.Namespace+"/"+e.Metadata.Name))
	}
	slices.Sort(out)
	return out
}

// waitForBadges waits until the example policy has rated the components.
func waitForBadges(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		var res struct{ Total int }
		resp, err := http.Get("http://" + addr + "/api/policies/test-certification/results?limit=1")
		if err == nil {
			json.NewDecoder(resp.Body).Decode(&res)
			resp.Body.Close()
		}
		if res.Total > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no badges after 60s")
		}
	}
}
