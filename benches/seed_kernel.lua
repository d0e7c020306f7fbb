-- The seed: the lupa README's threaded Mandelbrot kernel, unchanged in substance. Each
-- thread renders rows N/total*(i-1) .. N/total*i-1 and concatenates them into one
-- string (quadratic copying); the caller joins the threads' strings.
function seed_rows(N, i, total)
  local char, unpack = string.char, table.unpack or unpack
  local result = ""
  local M, ba, bb, buf = 2/N, 2^(N%8+1)-1, 2^(8-N%8), {}
  local start_line, end_line = N/total * (i-1), N/total * i - 1
  for y=start_line,end_line do
    local Ci, b, p = y*M-1, 1, 0
    for x=0,N-1 do
      local Cr = x*M-1.5
      local Zr, Zi, Zrq, Ziq = Cr, Ci, Cr*Cr, Ci*Ci
      b = b + b
      for i=1,49 do
        Zi = Zr*Zi*2 + Ci
        Zr = Zrq-Ziq + Cr
        Ziq = Zi*Zi
        Zrq = Zr*Zr
        if Zrq+Ziq > 4.0 then b = b + 1; break; end
      end
      if b >= 256 then
        p = p + 1; buf[p] = 511 - b; b = 1;
      end
    end
    if b ~= 1 then
      p = p + 1; buf[p] = (ba-b)*bb
    end
    result = result .. char(unpack(buf, 1, p))
  end
  return result
end

-- The same kernel for one row, so the pool can hand out rows: no concatenation, no
-- joins, balanced threads. Only the row loop is gone.
function seed_row(y, N)
  local char, unpack = string.char, table.unpack or unpack
  local M, ba, bb, buf = 2/N, 2^(N%8+1)-1, 2^(8-N%8), {}
  local Ci, b, p = y*M-1, 1, 0
  for x=0,N-1 do
    local Cr = x*M-1.5
    local Zr, Zi, Zrq, Ziq = Cr, Ci, Cr*Cr, Ci*Ci
    b = b + b
    for i=1,49 do
      Zi = Zr*Zi*2 + Ci
      Zr = Zrq-Ziq + Cr
      Ziq = Zi*Zi
      Zrq = Zr*Zr
      if Zrq+Ziq > 4.0 then b = b + 1; break; end
    end
    if b >= 256 then
      p = p + 1; buf[p] = 511 - b; b = 1;
    end
  end
  if b ~= 1 then
    p = p + 1; buf[p] = (ba-b)*bb
  end
  return char(unpack(buf, 1, p))
end
