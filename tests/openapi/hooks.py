"""Schemathesis hooks for scripts/test-openapi: how to send the relay's binary media types."""

import schemathesis

# A sync message is bytes (docs/protocol.md); the fuzzer sends any bytes, as for octet-stream.
schemathesis.serializer.alias("application/x-fieldsync-sync", "application/octet-stream")
