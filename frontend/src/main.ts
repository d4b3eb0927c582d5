import './provision'
import { createApp } from 'vue'
import App from './App.vue'
import { setUnauthorizedHandler } from './api/client'
import { clearSession } from './auth'
import { router } from './router'
import './styles/base.css'

// A person's 401 means the session ended: back to /login, then back here.
// The wall handles its own refusals (未授权 screen), so it is left alone.
setUnauthorizedHandler(() => {
  const current = router.currentRoute.value
  if (current.name === 'wall' || current.name === 'login') return
  clearSession()
  void router.replace({ name: 'login', query: { next: current.fullPath } })
})

createApp(App).use(router).mount('#app')
