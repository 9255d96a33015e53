"""What the portal does: call the other services' public APIs, seal its cookies, sign the privacy team in."""
