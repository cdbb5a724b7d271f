stack "x"
system "a" { source = sqlite { path = "a.db" }, fields = { id = 1 } }
io.open("/etc/passwd")
