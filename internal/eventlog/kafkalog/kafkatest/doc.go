// Package kafkatest gives tests a Kafka cluster to run against: a real one named by
// the environment variable BACKLOT_TEST_KAFKA_BROKERS, or else an in-process fake
// cluster (github.com/twmb/franz-go/pkg/kfake) that speaks the Kafka protocol and
// lives as long as the test.
//
// Tests on a shared real cluster must not collide, so each test names its topics and
// consumer groups with its own TopicPrefix:
//
//	brokers := kafkatest.Brokers(t)
//	l, err := kafkalog.Open(ctx, kafkalog.Options{
//		Brokers:     brokers,
//		TopicPrefix: kafkatest.TopicPrefix(t),
//	})
//
// Topics made on a real cluster are not deleted afterwards; their unique prefix keeps
// them apart from the next run's.
package kafkatest
