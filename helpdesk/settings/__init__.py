"""Settings split by environment: base (shared), local (default), test, production."""
