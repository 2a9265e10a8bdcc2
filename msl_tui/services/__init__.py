"""Pure domain services: priority, segments, prompts, language, dates. No UI, no SQL."""
