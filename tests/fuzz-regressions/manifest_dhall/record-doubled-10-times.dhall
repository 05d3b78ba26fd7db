let a0 = { x = "", y = "" }
let a1 = { p = a0, q = a0 }
let a2 = { p = a1, q = a1 }
let a3 = { p = a2, q = a2 }
let a4 = { p = a3, q = a3 }
let a5 = { p = a4, q = a4 }
let a6 = { p = a5, q = a5 }
let a7 = { p = a6, q = a6 }
let a8 = { p = a7, q = a7 }
let a9 = { p = a8, q = a8 }
let a10 = { p = a9, q = a9 }
in a10
