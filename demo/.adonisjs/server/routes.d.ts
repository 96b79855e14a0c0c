import '@adonisjs/core/types/http'

type ParamValue = string | number | bigint | boolean

export type ScannedRoutes = {
  ALL: {
    'home': { paramsTuple?: []; params?: {} }
    'sign_in': { paramsTuple?: []; params?: {} }
    'sign_in.store': { paramsTuple?: []; params?: {} }
    'sign_out': { paramsTuple?: []; params?: {} }
    'parallel': { paramsTuple?: []; params?: {} }
    'parallel_writes.reset': { paramsTuple?: []; params?: {} }
    'parallel_writes.write': { paramsTuple: [ParamValue]; params: { index: ParamValue } }
    'parallel_writes.kept': { paramsTuple?: []; params?: {} }
    'cookie_size': { paramsTuple?: []; params?: {} }
    'cookie_size.store': { paramsTuple?: []; params?: {} }
    'devices': { paramsTuple?: []; params?: {} }
    'devices.sign_out_others': { paramsTuple?: []; params?: {} }
  }
  GET: {
    'home': { paramsTuple?: []; params?: {} }
    'sign_in': { paramsTuple?: []; params?: {} }
    'parallel': { paramsTuple?: []; params?: {} }
    'parallel_writes.kept': { paramsTuple?: []; params?: {} }
    'cookie_size': { paramsTuple?: []; params?: {} }
    'devices': { paramsTuple?: []; params?: {} }
  }
  HEAD: {
    'home': { paramsTuple?: []; params?: {} }
    'sign_in': { paramsTuple?: []; params?: {} }
    'parallel': { paramsTuple?: []; params?: {} }
    'parallel_writes.kept': { paramsTuple?: []; params?: {} }
    'cookie_size': { paramsTuple?: []; params?: {} }
    'devices': { paramsTuple?: []; params?: {} }
  }
  POST: {
    'sign_in.store': { paramsTuple?: []; params?: {} }
    'sign_out': { paramsTuple?: []; params?: {} }
    'parallel_writes.reset': { paramsTuple?: []; params?: {} }
    'parallel_writes.write': { paramsTuple: [ParamValue]; params: { index: ParamValue } }
    'cookie_size.store': { paramsTuple?: []; params?: {} }
    'devices.sign_out_others': { paramsTuple?: []; params?: {} }
  }
}
declare module '@adonisjs/core/types/http' {
  export interface RoutesList extends ScannedRoutes {}
}
