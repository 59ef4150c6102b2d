/** Every admin console page in Korean, checked in a real Chromium (see console-page-sweep.ts). */
import { describeConsolePageSweep } from '../helpers/console-page-sweep.ts'

describeConsolePageSweep('ko-KR', 'Korean')
