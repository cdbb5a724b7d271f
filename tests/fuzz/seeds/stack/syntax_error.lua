stack "x"
system "a" {
  source = csv { path = "a.csv" ,
