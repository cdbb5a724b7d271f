stack "x"
local t = {}
while true do t[1] = string.rep("x", 10000000) end
