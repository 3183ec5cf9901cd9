# tests for fs (fragment)
