"""Outbound mail: a sender that claims each notification over HTTP and delivers it."""
