"""Getting data in: schema, the sample workbook, the ingest, and the chat-log sources."""
