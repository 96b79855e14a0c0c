import router from '@adonisjs/core/services/router'
import { middleware } from './kernel.js'

const HomeController = () => import('../app/controllers/home_controller.js')
const SignInController = () => import('../app/controllers/sign_in_controller.js')
const DevicesController = () => import('../app/controllers/devices_controller.js')
const ParallelWritesController = () => import('../app/controllers/parallel_writes_controller.js')
const CookieSizeController = () => import('../app/controllers/cookie_size_controller.js')

router.get('/', [HomeController, 'show']).as('home')
router.get('/sign-in', [SignInController, 'show']).as('sign_in')
router.post('/sign-in', [SignInController, 'store'])
router.post('/sign-out', [SignInController, 'destroy']).as('sign_out')

router.get('/parallel', [ParallelWritesController, 'show']).as('parallel')
router.post('/parallel/reset', [ParallelWritesController, 'reset'])
router.post('/parallel/write/:index', [ParallelWritesController, 'write']).where('index', /^\d+$/)
router.get('/parallel/kept', [ParallelWritesController, 'kept'])

router.get('/cookie-size', [CookieSizeController, 'show']).as('cookie_size')
router.post('/cookie-size', [CookieSizeController, 'store'])

router
  .group(() => {
    router.get('/devices', [DevicesController, 'index']).as('devices')
    router.post('/devices/sign-out-others', [DevicesController, 'signOutOthers'])
  })
  .use(middleware.auth())
