// Uses the whole public API as a TypeScript program would; test/types.test.js runs
// `tsc --noEmit -p test/types` on it. The @ts-expect-error lines must stay errors: they
// show the declarations are typed, not `any`.
import * as luarun from '../..';
import { State, LuarunError, render, renderAsync, type LuaValue, type RenderOptions } from '../..';

const lua: State = new luarun.State({ libraries: ['math', 'string'], timeLimitMs: 1000, memoryLimit: 64n << 20n, strings: 'string' });
lua.exec('function area(w, h) return w * h end', '=setup');
const area: LuaValue | LuaValue[] = lua.call('area', 3, 4);
const sum = lua.eval<number>('1 + 2') + 1;
const table = lua.eval<Map<LuaValue, LuaValue>>('{ 1, 2, 3 }');
const size: number = table.size;
const pair = lua.eval<LuaValue[]>('1, 2');
lua.call('print', null, undefined, true, 1.5, 7n, 'x', Buffer.from('y'), [1, [2]], new Map([[1, 'a']]), { nested: { deep: [1] } });
lua.setPrint((line: string) => void line);
lua.setPrint(null);
lua.setMemoryLimit(0);
const limit: number | bigint = lua.memoryLimit();
const used: number = lua.memoryUsed();
lua.gc();
lua.gc('stop');
lua.preload('m', 'return 1');
lua.preload('m', Buffer.from('return 1'));
lua.setModulePath('/tmp/?.lua');
lua.setCModulePath('/tmp/?.so');
lua.interrupt();
const closed: boolean = lua.closed;
lua.close();

const options: RenderOptions = { width: 200, engine: 'lua', format: 'counts_u8', threads: 0, x_min: -1.5 };
const pixels: Buffer = render(options);
const counts: Uint32Array = render({ width: 64, format: 'counts_u32' }, new Uint32Array(64 * 64));
const bytes: number = luarun.bufferSize({ width: 200, height: 100, format: luarun.PIXELS.RGB8 });
const params = luarun.mandelbrotParams({ width: 16, engine: luarun.ENGINE.NATIVE });
const height: number = params.height;
const later: Promise<Buffer> = renderAsync({ width: 64, progress: (done: number, total: number) => done > total / 2 });
const inPlace: Promise<Uint8Array> = renderAsync({ width: 64 }, new Uint8Array(512));
luarun.releasePools();
const versions: string[] = [luarun.version(), luarun.luaVersion(), String(luarun.abiVersion())];
const statuses: number[] = [luarun.STATUS.OK, luarun.STATUS.ERR_CANCELLED, luarun.LIB.os];

try {
  lua.exec('error("x")');
} catch (error) {
  if (error instanceof LuarunError) {
    const described: string = `${error.statusName} (${error.status}): ${error.message}`;
    void described;
  }
}

// @ts-expect-error: width is a number or a BigInt, not a string
render({ width: '10' });
// @ts-expect-error: format names are the C suffixes ('rgb8', not 'rgb')
render({ format: 'rgb' });
// @ts-expect-error: unknown option
render({ colour: 1 });
// @ts-expect-error: engines are 'native' and 'lua'
luarun.bufferSize({ engine: 'luajit' });
// @ts-expect-error: a State has no such option
new State({ timeout: 1 });
// @ts-expect-error: functions cannot be passed to Lua
lua.call('f', () => 1);
// @ts-expect-error: gc operations are named
lua.gc('sweep');
// @ts-expect-error: there is no such status
void luarun.STATUS.ERR_NOPE;

void [area, sum, size, pair, limit, used, closed, pixels, counts, bytes, height, later, inPlace, versions, statuses];
