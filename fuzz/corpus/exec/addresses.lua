local t = setmetatable({}, {__name = 'N', __tostring = nil}) print(t, print, coroutine.running(), 1.5, nil) return tostring(t), string.format('%p|%-20p|%s|%%p|%5.1f', t, 'str', t, 2.25)
