/** Every admin console page in English, checked in a real Chromium (see console-page-sweep.ts). */
import { describeConsolePageSweep } from '../helpers/console-page-sweep.ts'

describeConsolePageSweep('en-US', 'English')
