"""Outbound mail: a sender consumer that claims each notification over HTTP and delivers it."""
