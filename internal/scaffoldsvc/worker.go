package scaffoldsvc

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/domain/fault"
	"backlot.dev/backlot/internal/catalogsvc"
	"backlot.dev/backlot/projections/catalogstore"
	"backlot.dev/backlot/workflows/scaffolder"
)

// KeyEnv names the environment variable holding the secrets codec's key,
// base64 of scaffolder.KeySize bytes; every client and worker of one
// Temporal namespace needs the same key.
const KeyEnv = "BACKLOT_SECRETS_KEY"

// LoadKey returns the codec key: KeyEnv when set, else the key in
// dataDir/secrets.key, made on first use (readable by its owner only).
func LoadKey(dataDir string) ([]byte, error) {
	if v := os.Getenv(KeyEnv); v != "" {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
		if err != nil || len(key) != scaffolder.KeySize {
			return nil, fmt.Errorf("%s: want base64 of %d bytes", KeyEnv, scaffolder.KeySize)
		}
		return key, nil
	}
	if dataDir == "" {
		return nil, fmt.Errorf("%s is not set: set it to base64 of %d random bytes (openssl rand -base64 32)", KeyEnv, scaffolder.KeySize)
	}
	p := filepath.Join(dataDir, "secrets.key")
	if raw, err := os.ReadFile(p); err == nil {
		key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
		if err != nil || len(key) != scaffolder.KeySize {
			return nil, fmt.Errorf("%s: not a key (base64 of %d bytes)", p, scaffolder.KeySize)
		}
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	key := make([]byte, scaffolder.KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := os.WriteFile(p, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, err
	}
	return key, nil
}

// Dial connects to Temporal with the data converter that seals secrets.
func Dial(ctx context.Context, addr, namespace string, key []byte, logger *slog.Logger) (client.Client, converter.DataConverter, error) {
	dc, err := scaffolder.NewDataConverter(key)
	if err != nil {
		return nil, nil, err
	}
	if logger == nil {
		logger = slog.Default()
	}
	c, err := client.DialContext(ctx, client.Options{
		HostPort: addr, Namespace: namespace, DataConverter: dc,
		Logger: tlog.NewStructuredLogger(logger.With("component", "temporal")),
	})
	if err != nil {
		return nil, nil, fmt.Errorf("temporal %s: %w", addr, err)
	}
	return c, dc, nil
}

// StartWorker starts a worker on queue with what register registers.
func StartWorker(c client.Client, queue string, register func(worker.Registry)) (worker.Worker, error) {
	w := worker.New(c, queue, worker.Options{})
	register(w)
	if err := w.Start(); err != nil {
		return nil, fmt.Errorf("temporal worker %s: %w", queue, err)
	}
	return w, nil
}

// Catalog is the actions' catalog on Backlot's own services.
type Catalog struct {
	// Service registers locations.
	Service *catalogsvc.Service
	// Log takes the task events.
	Log event.PartitionedLog
	// Reader explains a location that yields no entity.
	Reader catalogstore.Reader
}

var _ scaffolder.Catalog = Catalog{}

// Register registers the url location, or refreshes it when registered
// before, and answers the refs of its entities once readable. An entity of
// the file that another location provides is a fault.Conflict naming the
// file and entity (the register action fails at once, not retryable); a
// location that yields no entity for a recorded problem is an input error.
func (c Catalog) Register(ctx context.Context, actor, task, target string) ([]string, error) {
	res, err := c.Service.EnsureWithEntities(catalogsvc.WithCorrelation(ctx, task), actor, "url", target)
	if err != nil {
		return nil, err
	}
	var refs []string
	for _, raw := range res.Entities {
		var e struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if json.Unmarshal(raw, &e) != nil || e.Kind == "" {
			continue
		}
		ns := e.Metadata.Namespace
		if ns == "" {
			ns = "default"
		}
		refs = append(refs, strings.ToLower(e.Kind)+":"+ns+"/"+e.Metadata.Name)
	}
	var problems, conflicts []string
	if errs, err := c.Reader.LocationErrors(ctx, res.Location.ID); err == nil {
		for _, e := range errs {
			where := e.File
			if e.Entity != "" {
				where += " " + e.Entity
			}
			if e.Field != "" {
				where += " " + e.Field
			}
			problems = append(problems, where+": "+e.Message)
			if e.Name == "ConflictError" {
				conflicts = append(conflicts, where+": "+e.Message)
			}
		}
	}
	// An entity another location provides (a duplicate registered after
	// the task started) never registers on a retry: a conflict, not retryable.
	if len(conflicts) > 0 {
		return nil, fault.New(fault.Conflict, target, "%s: %s", target, strings.Join(conflicts, "; "))
	}
	if len(refs) == 0 {
		if len(problems) > 0 {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s yields no entity: %s", target, strings.Join(problems, "; ")), scaffolder.InputErrorType, nil)
		}
		return nil, fmt.Errorf("%s yields no entity", target)
	}
	return refs, nil
}

// Append appends events; an event whose id the log holds already (a
// retried append: event.ErrDuplicateID, the port's rule) is not an error.
func (c Catalog) Append(ctx context.Context, evs []event.Envelope) error {
	_, err := c.Log.Append(ctx, evs)
	if errors.Is(err, event.ErrDuplicateID) {
		return nil
	}
	return err
}
