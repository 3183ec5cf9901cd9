# tests for endpoint (fragment)
