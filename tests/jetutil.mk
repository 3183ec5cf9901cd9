# tests for jetutil (fragment)
