# (fragment: to be filled in)
