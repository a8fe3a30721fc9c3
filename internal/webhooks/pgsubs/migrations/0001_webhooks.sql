-- Webhook subscriptions of backlot serve. Deliveries read Kafka in a consumer
-- group per subscription, so no cursor is kept here.
CREATE TABLE IF NOT EXISTS webhook_subscriptions (
    id         TEXT PRIMARY KEY,
    url        TEXT NOT NULL,
    filter     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    created_by TEXT NOT NULL,
    -- the log's heads when it was created: deliveries start after them
    start_positions TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhook_dead_letters (
    subscription TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    reason       TEXT NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    event        JSONB NOT NULL,
    PRIMARY KEY (subscription, event_id)
);
