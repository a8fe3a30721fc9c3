package kafkalog_test

import (
	"context"
	"fmt"
	"log"

	"github.com/twmb/franz-go/pkg/kfake"

	"backlot.dev/backlot/domain/event"
	"backlot.dev/backlot/internal/eventlog/kafkalog"
)

func ExampleOpen() {
	// An in-process cluster stands in for a real one.
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()

	ctx := context.Background()
	l, err := kafkalog.Open(ctx, kafkalog.Options{Brokers: cluster.ListenAddrs(), Partitions: 3, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	e, err := event.New(event.TypeLocationRegistered, "location:default/generated-1",
		event.LocationRegistered{ID: "1", Type: "file", Target: "catalog-info.yaml"},
		event.Meta{Actor: "user:default/guest"})
	if err != nil {
		log.Fatal(err)
	}
	evs := []event.Envelope{e}
	if _, err := l.Append(ctx, evs); err != nil {
		log.Fatal(err)
	}
	read, err := l.ReadPartition(ctx, evs[0].Partition, 0, 100)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(l.Topic(), len(read), read[0].Position, read[0].Type, read[0].Subject)
	// Output: backlot.catalog.events.v1 1 1 backlot.location.registered.v1 location:default/generated-1
}

func ExampleLog_RunGroup() {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		log.Fatal(err)
	}
	defer cluster.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l, err := kafkalog.Open(ctx, kafkalog.Options{Brokers: cluster.ListenAddrs(), Partitions: 3, Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	defer l.Close()

	// The only member of its group runs every partition. A projector would read and
	// fold them until its context ends; this one prints them and stops.
	err = l.RunGroup(ctx, "backlot.example-projector", func(runCtx context.Context, partitions []int32) {
		fmt.Println("running partitions", partitions)
		cancel()
		<-runCtx.Done()
	})
	fmt.Println("RunGroup returned", err)
	// Output:
	// running partitions [0 1 2]
	// RunGroup returned <nil>
}
