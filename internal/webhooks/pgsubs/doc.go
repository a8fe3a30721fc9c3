// Package pgsubs is the webhook subscription store (webhooks.Store) in
// PostgreSQL, for backlot serve: the processes of a deployment share it, and
// each delivering process starts the subscriptions it finds there. It keeps no
// cursors: on Kafka a subscription's place is its consumer group's committed
// offsets. It keeps Subscription.Start, the log's heads when the subscription
// was created. Its migrations are embedded and applied by New.
package pgsubs
