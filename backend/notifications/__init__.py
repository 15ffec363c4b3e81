"""Web Push notifications: VAPID keys, subscriptions, preferences, delivery from the outbox."""
