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
//
// The fake cluster has three brokers and accepts consumer-group session timeouts down
// to 100ms (a real broker's minimum is 6s by default), so group tests can be quick;
// Real tells a test which one it runs against. StartFake always starts a fake cluster,
// for tests that stop it on purpose or need one of kfake's options.
package kafkatest
