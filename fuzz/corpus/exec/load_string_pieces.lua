local s = ('a or '):rep(2000) .. 'a' local f = load('return ' .. s, '=chain', 't', {a = 1}) return f and f(), load(42), load('x = ', nil, 't')
