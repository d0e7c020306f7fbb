// TypeScript declarations of the luarun Node.js binding (luarun.js), checked by
// test/types.test.js (`tsc --noEmit -p test/types`). The name unions below are checked
// against the runtime tables, which are generated from include/luarun.h.
/// <reference types="node" />

/** Memory the library reads or writes in place: Buffer, any TypedArray, DataView or ArrayBuffer. */
export type Bytes = ArrayBufferView | ArrayBuffer;

/** What Lua hands back: nil is null, integers beyond 2^53 are BigInts, tables are Map copies. */
export type LuaValue = null | boolean | number | bigint | string | Buffer | LuaTable;
/** A Lua table, copied (raw contents; nested tables are nested Maps). */
export interface LuaTable extends Map<LuaValue, LuaValue> {}
/** exec, eval and call: null for no result, the value for one, an Array for several. */
export type LuaResults = LuaValue | LuaValue[];

/**
 * What JavaScript may pass to Lua: null/undefined (nil), booleans, numbers, BigInts
 * (int64_t), strings (UTF-8) and bytes (as Lua strings), Arrays (sequences), Maps and
 * plain objects (tables, copied). Functions, symbols and cycles are refused.
 */
export type JsValue =
  | null | undefined | boolean | number | bigint | string | Bytes
  | readonly JsValue[] | ReadonlyMap<JsValue, JsValue> | { readonly [key: string]: JsValue };

/** Status names, LUARUN_OK and LUARUN_ERR_* without the prefix. */
export type StatusName =
  | 'OK' | 'ERR_SYNTAX' | 'ERR_RUNTIME' | 'ERR_MEMORY' | 'ERR_INTERRUPTED' | 'ERR_INVALID_ARGUMENT'
  | 'ERR_BUFFER_TOO_SMALL' | 'ERR_TYPE' | 'ERR_UNSUPPORTED' | 'ERR_CANCELLED' | 'ERR_PANIC';
/** Standard library names (LUARUN_LIB_* in lower case). */
export type LibraryName = 'coroutine' | 'table' | 'string' | 'math' | 'utf8' | 'os' | 'io' | 'package' | 'debug';
/** Engine names for the `engine` option (LUARUN_ENGINE_* in lower case). */
export type EngineName = 'native' | 'lua';
/** Pixel format names for the `format` option (LUARUN_PIXELS_* in lower case). */
export type FormatName = 'bits' | 'counts_u32' | 'rgb8' | 'counts_u16' | 'counts_u8';
/** Operations of State.gc (LUARUN_GC_* in lower case). */
export type GcOperation = 'collect' | 'stop' | 'restart';

/** An integer option: a number or a BigInt within the C type's range. */
export type Integer = number | bigint;

/** A failed luarun call: the status, its name, and the library's message. */
export declare class LuarunError extends Error {
  constructor(status: number, message: string, options?: { cause?: unknown });
  readonly name: 'LuarunError';
  /** The LUARUN_ERR_* number (see STATUS). */
  readonly status: number;
  /** The status constant's name, e.g. "LUARUN_ERR_RUNTIME". */
  readonly statusName: string;
  /** Why the call was stopped (status LUARUN_ERR_INTERRUPTED), else null. */
  stop: 'interrupt' | 'instructionLimit' | 'timeLimit' | 'closing' | null;
  /** The StateOptions key the error is about (the limit that stopped it, the library it needed). */
  option: 'libraries' | 'memoryLimit' | 'instructionLimit' | 'timeLimitMs' | null;
  /** For option 'libraries': the library the code needed, e.g. 'os'. */
  library: LibraryName | null;
}

/** Options of a new State. */
export interface StateOptions {
  /** Standard libraries beyond base: names, or LIB bits ORed together; default the safe set. */
  libraries?: readonly LibraryName[] | number;
  /** Most bytes the state may hold; 0 = unlimited. */
  memoryLimit?: Integer;
  /** Lua instructions per call; 0 = unlimited. */
  instructionLimit?: Integer;
  /** Wall time per call in milliseconds; 0 = unlimited. */
  timeLimitMs?: Integer;
  /** Load precompiled chunks (default false). */
  allowBytecode?: boolean;
  /** Allow `__gc` metamethods (default false). */
  allowFinalizers?: boolean;
  /** Lua strings come back as UTF-8 strings (default) or as Buffers. */
  strings?: 'string' | 'buffer';
}

/** A Lua state: safe libraries only unless `libraries` asks for more, limits per call. */
export declare class State {
  /** @throws {TypeError|RangeError} an unknown option or a value that does not fit */
  constructor(options?: StateOptions);
  /** Whether close() was called. */
  readonly closed: boolean;
  /** Runs a chunk and returns what it returns. `name`: "@file.lua", "=name" or any text. */
  exec<T extends LuaResults = LuaResults>(code: string | Bytes, name?: string): T;
  /** Evaluates an expression ("1 + 2", "t.x", "1, 2"); several values come back as an Array. */
  eval<T extends LuaResults = LuaResults>(expression: string | Bytes, name?: string): T;
  /** Calls the global function `name` with converted arguments. */
  call<T extends LuaResults = LuaResults>(name: string, ...args: JsValue[]): T;
  /** Stops the running call (or the next one) with LUARUN_ERR_INTERRUPTED. */
  interrupt(): void;
  /** Bytes the state's Lua heap holds. */
  memoryUsed(): number;
  /** The memory limit in bytes, 0 = none. */
  memoryLimit(): number | bigint;
  /** Sets the memory limit; 0 lifts it. */
  setMemoryLimit(bytes: Integer): void;
  /** Runs a garbage-collector operation (default 'collect'). */
  /** Registers `source` as the Lua module `name` for require (works in sandboxed states). */
  preload(name: string, source: string | Buffer | Uint8Array): void;
  /** Sets package.path (needs the 'package' library). */
  setModulePath(path: string): void;
  /** Sets package.cpath and enables C modules: native code, outside the sandbox's guarantees. */
  setCModulePath(cpath: string): void;
  gc(operation?: GcOperation): void;
  /** Routes Lua's print to `writer(line)` (no trailing newline); null restores stdout. */
  setPrint(writer: ((line: string) => void) | null): void;
  /** Frees the state; calling it again does nothing. */
  close(): void;
}

/** Options of render, renderAsync, bufferSize and mandelbrotParams: the C field names. */
export interface RenderOptions {
  /** Image width in pixels (default 1280). */
  width?: Integer;
  /** Image height in pixels (default: `width`). */
  height?: Integer;
  /** Iterations per pixel (default 50). */
  max_iter?: Integer;
  x_min?: number;
  x_max?: number;
  y_min?: number;
  y_max?: number;
  /** Worker threads, 0 = one per core (default). */
  threads?: Integer;
  /** 'native' (default) or 'lua', or an ENGINE value. */
  engine?: EngineName | number;
  /** 'bits' (default), 'counts_u32', 'rgb8', 'counts_u16', 'counts_u8', or a PIXELS value. */
  format?: FormatName | number;
  /** Lua source of the kernel, engine 'lua' only. */
  lua_kernel?: string | Bytes | null;
  /** Tiles: this render's place in a larger image of image_width x image_height. */
  x_offset?: Integer;
  y_offset?: Integer;
  image_width?: Integer;
  image_height?: Integer;
  /**
   * renderAsync only: called with the rows done so far. A truthy return cancels the
   * render; nothing (or a falsy value) continues.
   */
  progress?: ((rowsDone: number, rowsTotal: number) => unknown) | null;
}

/** The luarun_mandelbrot fields mandelbrotParams returns. */
export interface MandelbrotParams {
  struct_size: number;
  width: number;
  height: number;
  max_iter: number;
  x_min: number;
  x_max: number;
  y_min: number;
  y_max: number;
  threads: number;
  engine: number;
  format: number;
  progress: unknown;
  progress_user_data: unknown;
  lua_kernel: string | Bytes | null;
  lua_kernel_len: number | bigint;
  x_offset: number;
  y_offset: number;
  image_width: number;
  image_height: number;
}

/** Status numbers by name: { OK: 0, ERR_SYNTAX: 1, ... }. */
export declare const STATUS: Readonly<Record<StatusName, number>>;
/** Library bits for StateOptions.libraries: { coroutine: 1, ..., debug: 256 }. */
export declare const LIB: Readonly<Record<LibraryName, number>>;
/** Render engines: { NATIVE: 0, LUA: 1 }. */
export declare const ENGINE: Readonly<Record<Uppercase<EngineName>, number>>;
/** Pixel formats: { BITS: 0, COUNTS_U32: 1, RGB8: 2, COUNTS_U16: 3, COUNTS_U8: 4 }. */
export declare const PIXELS: Readonly<Record<Uppercase<FormatName>, number>>;

/** Renders into a new Buffer of the right size. Blocks until done. */
export declare function render(options?: RenderOptions): Buffer;
/** Renders into `buffer` (written in place) and returns it. Blocks until done. */
export declare function render<B extends Bytes>(options: RenderOptions | undefined, buffer: B): B;
/** render on a worker thread; `progress` may be given. */
export declare function renderAsync(options?: RenderOptions): Promise<Buffer>;
export declare function renderAsync<B extends Bytes>(options: RenderOptions | undefined, buffer: B): Promise<B>;
/** Bytes a render with these options writes. */
export declare function bufferSize(options?: RenderOptions): number;
/** The checked C parameters a render with these options uses. */
export declare function mandelbrotParams(options?: RenderOptions): MandelbrotParams;
/** Closes the Lua states the Lua engine keeps between renders. */
export declare function releasePools(): void;
/** The library's version, e.g. "0.1.0". */
export declare function version(): string;
/** The Lua inside the library: "Lua 5.4" or "LuaJIT 2.1.<release>". */
export declare function luaVersion(): string;
/** The library's ABI version (LUARUN_ABI_VERSION). */
export declare function abiVersion(): number;
