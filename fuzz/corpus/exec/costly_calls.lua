local t = {} for i = 1, 1e4 do t[i] = -i end for i = 1, 20 do table.sort(t) end return #t
