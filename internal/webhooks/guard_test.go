package webhooks_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/webhooks"
	"backlot.dev/backlot/workflows/netguard"
)

// switchingResolver answers with public until switched, then with loopback:
// a name rebound between the subscription's check and a delivery.
type switchingResolver struct{ rebound atomic.Bool }

func (r *switchingResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	if r.rebound.Load() {
		return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
	}
	return []netip.Addr{netip.MustParseAddr("93.184.216.34")}, nil
}

// waitDeadLetter waits for subID's first dead letter and returns its reason.
func waitDeadLetter(t *testing.T, m *webhooks.Manager, subID string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		letters, err := m.Store().DeadLetters(context.Background(), subID)
		if err != nil {
			t.Fatal(err)
		}
		if len(letters) > 0 {
			return letters[0].Reason
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("no dead letter")
	return ""
}

// TestWebhookSubscriptionToAForbiddenAddressIsRefused: a URL naming a
// metadata, loopback or private address, or a name resolving only to
// loopback, is refused at creation, naming the field url and the class.
func TestWebhookSubscriptionToAForbiddenAddressIsRefused(t *testing.T) {
	_, m, _, _ := setupGuarded(t, 2, netguard.Default())
	tests := []struct{ url, want string }{
		{"http://169.254.169.254/latest/meta-data/", "169.254.169.254:80 (metadata address)"},
		{"http://127.0.0.1:8080/hook", "127.0.0.1:8080 (loopback address)"},
		{"https://10.0.0.1/hook", "10.0.0.1:443 (private address)"},
		{"http://[::ffff:127.0.0.1]/hook", "(loopback address)"},
		{"http://[fd00:ec2::254]/", "(metadata address)"},
		{"http://100.64.0.1/", "100.64.0.1:80 (CGNAT address)"},
		{"http://localhost:9/hook", "localhost (127.0.0.1:9, loopback address)"},
	}
	for _, tt := range tests {
		_, err := m.Create(context.Background(), "user:default/ada", webhooks.Input{URL: tt.url, Secret: secret})
		var ve *webhooks.ValidationError
		if !errors.As(err, &ve) || ve.Field != "url" || !errors.Is(err, fault.Invalid) {
			t.Errorf("%s: %v, want a ValidationError of the field url", tt.url, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "refused to connect to") || !strings.Contains(err.Error(), "--allow-network") {
			t.Errorf("%s: message %q, want it to name %q and how to allow it", tt.url, err, tt.want)
		}
	}
	if subs, _ := m.Store().List(context.Background()); len(subs) != 0 {
		t.Fatalf("refused subscriptions were stored: %+v", subs)
	}
}

// TestWebhookDeliveryToARefusedAddressFailsAtDialTime: the subscription's
// host resolves to a public address when it is created and to loopback
// when the event is delivered; the delivery is refused at dial time and
// the event becomes a dead letter, and the receiver is never reached.
func TestWebhookDeliveryToARefusedAddressFailsAtDialTime(t *testing.T) {
	res := &switchingResolver{}
	guard, err := netguard.New(netguard.Config{Resolver: res})
	if err != nil {
		t.Fatal(err)
	}
	log, m, r, srv := setupGuarded(t, 2, guard)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	sub, err := m.Create(context.Background(), "user:default/ada", webhooks.Input{URL: "http://rebind.example:" + port + "/hook", Secret: secret})
	if err != nil {
		t.Fatalf("a name resolving to a public address was refused: %v", err)
	}
	res.rebound.Store(true)
	if _, err := log.Append(context.Background(), []event.Envelope{upsert(t, "component:default/x", 1)}); err != nil {
		t.Fatal(err)
	}
	reason := waitDeadLetter(t, m, sub.ID)
	if !strings.Contains(reason, "refused to connect to rebind.example (127.0.0.1:"+port+", loopback address)") {
		t.Errorf("dead letter reason %q, want the refusal", reason)
	}
	if got := r.received(); len(got) != 0 {
		t.Errorf("the receiver on loopback got %d events", len(got))
	}
}

// TestWebhookDeliveryFollowsNoRedirect: the target answers 302 to another
// server; the delivery fails with the 302 and the other server is never hit.
func TestWebhookDeliveryFollowsNoRedirect(t *testing.T) {
	var hit atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hit.Add(1) }))
	defer elsewhere.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/stolen", http.StatusFound)
	}))
	defer redirector.Close()
	log, m, _, _ := setupGuarded(t, 2, netguard.Loopback())
	sub, err := m.Create(context.Background(), "user:default/ada", webhooks.Input{URL: redirector.URL, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := log.Append(context.Background(), []event.Envelope{upsert(t, "component:default/x", 1)}); err != nil {
		t.Fatal(err)
	}
	if reason := waitDeadLetter(t, m, sub.ID); !strings.Contains(reason, "302") {
		t.Errorf("dead letter reason %q, want the 302", reason)
	}
	if n := hit.Load(); n != 0 {
		t.Errorf("the redirect's target was hit %d times", n)
	}
}
