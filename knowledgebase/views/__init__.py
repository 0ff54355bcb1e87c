"""HTML views of the knowledge base: ``reader`` (everyone signed in), ``manage`` (writers), ``tickets`` (agents)."""
