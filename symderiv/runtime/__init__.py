"""Process limits (time-limited workers off the main thread) and on-disk caches."""
