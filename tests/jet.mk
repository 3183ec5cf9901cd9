# tests for jet (fragment)
