package kafkalog

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/segmentio/kafka-go"

	"backlot.dev/backlot/domain/event"
)

// RunGroup makes this process a member of the Kafka consumer group groupID over the
// topic, so that the members of the group, usually one per projector process, share
// the topic's partitions: every partition is assigned to exactly one member at a time.
//
// For each generation of the group, RunGroup calls run once with the partitions
// assigned to this member, sorted (possibly none, when the group has more members
// than the topic has partitions), and a context that ends when the generation ends,
// because a member joined or left, or when ctx ends. run should read and fold its
// partitions until then, from the positions its read model stored, and return
// promptly: RunGroup waits for it before joining the next generation, so no two
// members ever work on a partition at once, and a member whose run outlasts
// Options.GroupRebalanceTimeout is dropped from the group. If run returns while its
// context is still live, the partitions stay assigned and idle until the next
// generation.
//
// A member that stops heartbeating (a killed process) loses its partitions to the
// others after Options.GroupSessionTimeout; a member whose ctx ends leaves the group at
// once. Errors joining the group are logged and retried after
// Options.GroupJoinBackoff. No offsets are committed: positions live in the read
// models.
//
// RunGroup returns nil when ctx ends, once this member has left the group, and
// event.ErrClosed when the Log is closed.
func (l *Log) RunGroup(ctx context.Context, groupID string, run func(ctx context.Context, partitions []int32)) error {
	if l.closed.Load() {
		return event.ErrClosed
	}
	if groupID == "" {
		return errors.New("kafkalog: run group: empty group id")
	}
	if run == nil {
		return fmt.Errorf("kafkalog: run group %s: nil run function", groupID)
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                groupID,
		Brokers:           l.opts.Brokers,
		Dialer:            l.dialer,
		Topics:            []string{l.topic},
		HeartbeatInterval: l.opts.GroupHeartbeatInterval,
		SessionTimeout:    l.opts.GroupSessionTimeout,
		RebalanceTimeout:  l.opts.GroupRebalanceTimeout,
		JoinGroupBackoff:  l.opts.GroupJoinBackoff,
	})
	if err != nil {
		return fmt.Errorf("kafkalog: run group %s on topic %s: %w", groupID, l.topic, err)
	}
	defer cg.Close()
	gctx, stop := l.request(ctx)
	defer stop()
	logger := l.logger.With("group", groupID)

	for {
		gen, err := cg.Next(gctx)
		if gctx.Err() != nil {
			break
		}
		if err != nil {
			if errors.Is(err, kafka.RebalanceInProgress) {
				logger.Debug("kafkalog: consumer group rebalancing", "err", err)
			} else {
				logger.Warn("kafkalog: consumer group: cannot join, retrying", "brokers", l.brokers, "err", err)
			}
			continue
		}
		partitions := assigned(gen, l.topic)
		logger.Debug("kafkalog: consumer group generation", "generation", gen.ID, "member", gen.MemberID,
			"partitions", partitions)
		finished := make(chan struct{})
		gen.Start(func(genCtx context.Context) {
			defer close(finished)
			runCtx, cancel := context.WithCancel(gctx)
			unhook := context.AfterFunc(genCtx, cancel)
			run(runCtx, partitions)
			unhook()
			cancel()
			// Hold the generation until it ends: a function started on it that returns
			// ends it, which would make the whole group rebalance.
			<-genCtx.Done()
		})
		select {
		case <-finished:
		case <-gctx.Done():
			cg.Close() // ends the generation, and so run's context, and leaves the group
			<-finished
		}
	}
	cg.Close()
	if l.closed.Load() {
		return event.ErrClosed
	}
	return nil
}

// assigned returns the partitions of topic that gen assigns to this member, sorted.
func assigned(gen *kafka.Generation, topic string) []int32 {
	var ps []int32
	for _, a := range gen.Assignments[topic] {
		ps = append(ps, int32(a.ID))
	}
	slices.Sort(ps)
	return ps
}
