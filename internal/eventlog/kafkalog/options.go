package kafkalog

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// EventsTopic is the name of the history topic after Options.TopicPrefix.
const EventsTopic = "catalog.events.v1"

// DefaultTopicPrefix is the prefix of Backlot's topic names when Options.TopicPrefix
// is empty.
const DefaultTopicPrefix = "backlot."

// Options configures a Log. Only Brokers is required: Open fills every other zero
// field with its default.
//
// Connections are plain TCP: TLS and SASL are not supported yet (kafka-go's Transport
// and Dialer have fields for both, to be wired here when a deployment needs them).
//
// There is no batch timeout: Append sends its events at once in its own produce
// requests instead of going through kafka-go's Writer, which holds writes for its
// BatchTimeout to gather more.
type Options struct {
	// Brokers lists host:port addresses of some of the cluster's brokers; the others
	// are discovered from the cluster's metadata.
	Brokers []string
	// TopicPrefix is put before EventsTopic to name the history topic. Default
	// "backlot.", giving "backlot.catalog.events.v1".
	TopicPrefix string
	// Partitions is the number of partitions Open creates the topic with when it is
	// missing. An existing topic keeps the partitions it has. Default 12.
	Partitions int
	// ReplicationFactor is the number of copies of each partition Open creates the
	// topic with; it is lowered to the number of brokers the cluster reports. Default 3.
	ReplicationFactor int
	// ClientID names this process to the brokers (in their logs and quotas).
	// Default "backlot".
	ClientID string
	// Logger receives the few events worth logging: the topic created, a partition
	// count other than configured, consumer-group errors. Default slog.Default().
	Logger *slog.Logger

	// DialTimeout bounds the opening of one connection to a broker. Default 5s.
	DialTimeout time.Duration
	// ConnectTimeout bounds how long Open keeps trying to reach the brokers, create
	// the topic and see a leader for every partition, unless Open's context ends
	// first. Default 30s.
	ConnectTimeout time.Duration
	// WriteTimeout bounds one Append, retries included; half of it is the time the
	// partition leader may wait for its replicas to acknowledge. Default 10s.
	WriteTimeout time.Duration
	// ReadTimeout bounds one request of ReadPartition, Heads or WaitPartition.
	// Default 10s.
	ReadTimeout time.Duration
	// MaxBatchBytes is the estimated size above which Append splits the events it
	// writes to one partition into several record batches (Kafka refuses a batch
	// larger than the topic's max.message.bytes, 1 MiB by default). Default 900 KiB.
	MaxBatchBytes int
	// FetchMaxBytes is the most ReadPartition asks one fetch to return. Reads size
	// their fetch to the limit and to the size of the events read so far, up to this.
	// Default 8 MiB.
	FetchMaxBytes int
	// DefaultReadLimit is the number of events ReadPartition returns at most when
	// called with limit <= 0. Default 1000.
	DefaultReadLimit int
	// LongPollWait is how long one fetch of WaitPartition waits at the broker for a
	// new event before asking again; an append wakes it at once. Default 2s.
	LongPollWait time.Duration
	// MetadataTTL is how often the client refreshes the topic's metadata (partition
	// leaders), so that a leader change is noticed. Default 2s.
	MetadataTTL time.Duration

	// GroupSessionTimeout is how long the group coordinator waits for a heartbeat
	// before it declares a RunGroup member dead and moves its partitions to the
	// others. Brokers accept 6s and more by default (group.min.session.timeout.ms).
	// Default 6s.
	GroupSessionTimeout time.Duration
	// GroupHeartbeatInterval is how often a RunGroup member tells the coordinator it
	// is alive, and so how soon it notices a rebalance. Default 1s.
	GroupHeartbeatInterval time.Duration
	// GroupRebalanceTimeout is how long the coordinator waits, in a rebalance, for
	// every member to rejoin; a member's run function must return within it after its
	// context ends. Default 10s.
	GroupRebalanceTimeout time.Duration
	// GroupJoinBackoff is how long a RunGroup member waits before joining again after
	// a failed join. Default 1s.
	GroupJoinBackoff time.Duration
}

// Topic returns the name of the history topic: TopicPrefix followed by EventsTopic,
// with the default prefix when TopicPrefix is empty.
func (o Options) Topic() string {
	prefix := o.TopicPrefix
	if prefix == "" {
		prefix = DefaultTopicPrefix
	}
	return prefix + EventsTopic
}

const (
	defaultPartitions             = 12
	defaultReplicationFactor      = 3
	defaultClientID               = "backlot"
	defaultDialTimeout            = 5 * time.Second
	defaultConnectTimeout         = 30 * time.Second
	defaultWriteTimeout           = 10 * time.Second
	defaultReadTimeout            = 10 * time.Second
	defaultMaxBatchBytes          = 900 << 10
	defaultFetchMaxBytes          = 8 << 20
	defaultReadLimit              = 1000
	defaultLongPollWait           = 2 * time.Second
	defaultMetadataTTL            = 2 * time.Second
	defaultGroupSessionTimeout    = 6 * time.Second
	defaultGroupHeartbeatInterval = time.Second
	defaultGroupRebalanceTimeout  = 10 * time.Second
	defaultGroupJoinBackoff       = time.Second
)

// setDefaults fills the zero fields of o with their defaults.
func (o *Options) setDefaults() {
	setDefault(&o.TopicPrefix, DefaultTopicPrefix)
	setDefault(&o.Partitions, defaultPartitions)
	setDefault(&o.ReplicationFactor, defaultReplicationFactor)
	setDefault(&o.ClientID, defaultClientID)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	setDefault(&o.DialTimeout, defaultDialTimeout)
	setDefault(&o.ConnectTimeout, defaultConnectTimeout)
	setDefault(&o.WriteTimeout, defaultWriteTimeout)
	setDefault(&o.ReadTimeout, defaultReadTimeout)
	setDefault(&o.MaxBatchBytes, defaultMaxBatchBytes)
	setDefault(&o.FetchMaxBytes, defaultFetchMaxBytes)
	setDefault(&o.DefaultReadLimit, defaultReadLimit)
	setDefault(&o.LongPollWait, defaultLongPollWait)
	setDefault(&o.MetadataTTL, defaultMetadataTTL)
	setDefault(&o.GroupSessionTimeout, defaultGroupSessionTimeout)
	setDefault(&o.GroupHeartbeatInterval, defaultGroupHeartbeatInterval)
	setDefault(&o.GroupRebalanceTimeout, defaultGroupRebalanceTimeout)
	setDefault(&o.GroupJoinBackoff, defaultGroupJoinBackoff)
}

func setDefault[T comparable](field *T, def T) {
	var zero T
	if *field == zero {
		*field = def
	}
}

// Validate reports every field of o that is out of range, joined into one error. It
// does not fill defaults; Open calls it after filling them.
func (o Options) Validate() error {
	var errs []error
	if len(o.Brokers) == 0 {
		errs = append(errs, errors.New("no broker addresses in Brokers"))
	}
	for _, b := range o.Brokers {
		if strings.TrimSpace(b) == "" {
			errs = append(errs, fmt.Errorf("an empty address in Brokers %q", o.Brokers))
			break
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"Partitions", o.Partitions},
		{"ReplicationFactor", o.ReplicationFactor},
		{"MaxBatchBytes", o.MaxBatchBytes},
		{"FetchMaxBytes", o.FetchMaxBytes},
		{"DefaultReadLimit", o.DefaultReadLimit},
	} {
		if f.v < 1 {
			errs = append(errs, fmt.Errorf("%s must be at least 1, got %d", f.name, f.v))
		}
	}
	for _, f := range []struct {
		name string
		v    time.Duration
	}{
		{"DialTimeout", o.DialTimeout},
		{"ConnectTimeout", o.ConnectTimeout},
		{"WriteTimeout", o.WriteTimeout},
		{"ReadTimeout", o.ReadTimeout},
		{"LongPollWait", o.LongPollWait},
		{"MetadataTTL", o.MetadataTTL},
		{"GroupSessionTimeout", o.GroupSessionTimeout},
		{"GroupHeartbeatInterval", o.GroupHeartbeatInterval},
		{"GroupRebalanceTimeout", o.GroupRebalanceTimeout},
		{"GroupJoinBackoff", o.GroupJoinBackoff},
	} {
		if f.v < time.Millisecond {
			errs = append(errs, fmt.Errorf("%s must be at least 1ms, got %s", f.name, f.v))
		}
	}
	if o.GroupHeartbeatInterval >= o.GroupSessionTimeout {
		errs = append(errs, fmt.Errorf("GroupHeartbeatInterval (%s) must be shorter than GroupSessionTimeout (%s)",
			o.GroupHeartbeatInterval, o.GroupSessionTimeout))
	}
	if len(errs) > 0 {
		return fmt.Errorf("kafkalog: invalid options: %w", errors.Join(errs...))
	}
	return nil
}
