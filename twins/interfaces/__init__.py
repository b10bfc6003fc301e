"""Industrial interfaces (CONTRACT §10): Sparkplug B, the Asset Administration Shell, OPC UA for Machinery."""
