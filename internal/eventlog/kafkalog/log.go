package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/domain/event"
)

// Log is an event.PartitionedLog stored in one Kafka topic, Options.Topic(). Each
// partition of the topic is a partition of the log, and an event's position is its
// offset in the partition plus one.
//
// A Log is safe for concurrent use. Every method is a request to the cluster (or a
// few); there is no local cache of events.
type Log struct {
	opts    Options
	topic   string
	brokers string // for errors
	logger  *slog.Logger

	// partitions is the topic's partition count, read at Open; ids lists them for
	// the partitioner.
	partitions int
	ids        []int

	transport *kafka.Transport
	writer    *kafka.Client // Timeout: WriteTimeout
	reader    *kafka.Client // Timeout: ReadTimeout
	dialer    *kafka.Dialer // for consumer groups, which use kafka-go's older connections

	// appending holds one lock per partition: an Append that must split a
	// partition's events into several record batches takes it exclusively, so that
	// no other append of this Log lands between its batches; single-batch appends
	// share it.
	appending []sync.RWMutex

	// recordBytes is a running estimate of the encoded size of one event, used to size
	// fetches.
	recordBytes atomic.Int64

	closed atomic.Bool
	// done ends with Close; every request runs under a context that done cancels.
	done   context.Context
	cancel context.CancelFunc
}

var _ event.PartitionedLog = (*Log)(nil)

// Open connects to the brokers of opts, creates the history topic when it is missing
// (Options.Partitions partitions, Options.ReplicationFactor replicas or as many as
// there are brokers, retention.ms=-1, retention.bytes=-1, cleanup.policy=delete), and
// waits until every partition has a leader. A topic that exists keeps its partition
// count; when it differs from Options.Partitions, Open logs it and uses what exists.
//
// Open keeps trying until the cluster answers, for at most Options.ConnectTimeout or
// until ctx ends; the error then names the brokers and the last cause.
func Open(ctx context.Context, opts Options) (*Log, error) {
	opts.setDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	topic := opts.Topic()
	logger := opts.Logger.With("topic", topic)

	setupCtx, cancelSetup := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancelSetup()
	n, err := ensureTopic(setupCtx, topicSpec{
		brokers:     opts.Brokers,
		topic:       topic,
		partitions:  opts.Partitions,
		replication: opts.ReplicationFactor,
		configs:     eventsTopicConfigs,
		clientID:    opts.ClientID,
		dialTimeout: opts.DialTimeout,
		logger:      logger,
	})
	if err != nil {
		return nil, err
	}
	if n != opts.Partitions {
		logger.Warn("kafkalog: the topic exists with another partition count; using it",
			"partitions", n, "configured", opts.Partitions)
	}

	done, cancel := context.WithCancel(context.Background())
	transport := &kafka.Transport{
		DialTimeout:    opts.DialTimeout,
		ClientID:       opts.ClientID,
		MetadataTTL:    opts.MetadataTTL,
		MetadataTopics: []string{topic},
		Context:        done,
	}
	addr := kafka.TCP(opts.Brokers...)
	l := &Log{
		opts:       opts,
		topic:      topic,
		brokers:    joinBrokers(opts.Brokers),
		logger:     logger,
		partitions: n,
		ids:        make([]int, n),
		transport:  transport,
		writer:     &kafka.Client{Addr: addr, Transport: transport, Timeout: opts.WriteTimeout},
		reader:     &kafka.Client{Addr: addr, Transport: transport, Timeout: opts.ReadTimeout},
		dialer: &kafka.Dialer{
			ClientID:  opts.ClientID,
			Timeout:   opts.DialTimeout,
			DualStack: true,
		},
		appending: make([]sync.RWMutex, n),
		done:      done,
		cancel:    cancel,
	}
	for i := range l.ids {
		l.ids[i] = i
	}
	l.recordBytes.Store(initialRecordBytes)
	// Load the topic's layout into the transport now, so that the first Append goes
	// straight to the partition leaders and a cluster lost later reads as
	// unreachable brokers rather than as an unknown topic.
	if err := l.loadLayout(setupCtx); err != nil {
		l.Close()
		return nil, err
	}
	return l, nil
}

// loadLayout waits until the Log's transport knows a leader for every partition.
func (l *Log) loadLayout(ctx context.Context) error {
	var last error
	for {
		md, err := l.reader.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{l.topic}})
		if err == nil {
			if t, ok := findTopic(md, l.topic); !ok {
				err = fmt.Errorf("topic %s not in the metadata", l.topic)
			} else if missing := leaderless(t); len(missing) > 0 {
				err = fmt.Errorf("topic %s: partitions %v have no leader", l.topic, missing)
			} else {
				return nil
			}
		}
		last = err
		if err := sleep(ctx, adminMetadataTTL); err != nil {
			return unreachable(l.opts.Brokers, l.topic, last, err)
		}
	}
}

// Topic returns the name of the Log's topic.
func (l *Log) Topic() string { return l.topic }

// Partitions lists the partitions of the topic, 0 to n-1, as read at Open. It returns
// event.ErrClosed after Close.
func (l *Log) Partitions(context.Context) ([]int32, error) {
	if l.closed.Load() {
		return nil, event.ErrClosed
	}
	ps := make([]int32, l.partitions)
	for i := range ps {
		ps[i] = int32(i)
	}
	return ps, nil
}

// Close ends the requests in flight (their methods return event.ErrClosed) and closes
// the connections. Every later call, Close included, returns event.ErrClosed.
func (l *Log) Close() error {
	if !l.closed.CompareAndSwap(false, true) {
		return event.ErrClosed
	}
	l.cancel()
	l.transport.CloseIdleConnections()
	return nil
}

// request returns a context for one operation of the Log: it ends when ctx ends or the
// Log is closed, but carries no deadline of ctx. kafka-go turns a deadline into one on
// the connection, whose i/o timeout can fire before ctx reports its end; without it,
// the operation sees ctx end as a cancellation and reports ctx.Err() itself. The
// clients' timeouts still bound every request. stop must be called when the operation
// is over.
func (l *Log) request(ctx context.Context) (_ context.Context, stop func()) {
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	unhookCaller := context.AfterFunc(ctx, cancel)
	unhookClose := context.AfterFunc(l.done, cancel)
	return rctx, func() {
		unhookCaller()
		unhookClose()
		cancel()
	}
}

// checkPartition reports an error unless p is a partition of the topic.
func (l *Log) checkPartition(p int32) error {
	if p < 0 || int(p) >= l.partitions {
		return fmt.Errorf("kafkalog: topic %s: partition %d does not exist (the topic has %d, 0 to %d)",
			l.topic, p, l.partitions, l.partitions-1)
	}
	return nil
}

// fail wraps the error of operation op, or returns event.ErrClosed when the Log was
// closed while op ran, or the context's error when ctx ended.
func (l *Log) fail(ctx context.Context, op string, err error) error {
	if l.closed.Load() {
		return event.ErrClosed
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", ctxErr, err)
	}
	return fmt.Errorf("kafkalog: %s: topic %s on brokers %s: %w", op, l.topic, l.brokers, err)
}
