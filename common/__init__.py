"""Shared leaves of patrol: configuration, thresholds, resolver, browser launching,
cache, process tuning and stopping. Imports no other room of the project."""
