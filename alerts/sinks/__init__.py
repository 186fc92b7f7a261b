"""Delivery channels. Each sink is one class with one verb, `send(change)`, chosen by `type`."""
