import { configPkg } from '@adonisjs/eslint-config'

export default configPkg(
  {
    ignores: ['build/**', 'coverage/**', 'tmp/**', 'demo/tmp/**', 'demo/storage/**', 'bench/tmp/**'],
  },
  {
    name: 'Tests read responses inline',
    files: ['tests/**/*.ts', 'tests_helpers/**/*.ts', 'factories/**/*.ts', 'bench/**/*.ts'],
    rules: { '@unicorn/no-await-expression-member': 'off' },
  }
)
