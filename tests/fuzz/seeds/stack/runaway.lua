stack "x"
while true do end
