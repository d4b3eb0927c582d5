// Imported first by main.ts: a kiosk opened as /wall#key=<display key> keeps the key and loses
// the fragment before the router or anything else reads the address.
import { captureWallKeyFromFragment } from './auth'

if (window.location.pathname === '/wall') captureWallKeyFromFragment()
