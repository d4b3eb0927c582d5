import { createRouter, createWebHistory, type RouteLocationNormalized } from 'vue-router'
import { homeFor, loadSession } from './auth'
import type { Role } from './api/types'

declare module 'vue-router' {
  interface RouteMeta {
    roles?: Role[]
    title?: string
  }
}

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    {
      path: '/',
      redirect: () => {
        const session = loadSession()
        return session ? homeFor(session.role) : '/login'
      },
    },
    {
      path: '/wall',
      name: 'wall',
      component: () => import('./pages/WallPage.vue'),
      meta: { title: '联合指挥中心' },
    },
    {
      path: '/login',
      name: 'login',
      component: () => import('./pages/LoginPage.vue'),
      meta: { title: '登录' },
    },
    {
      path: '/console',
      name: 'console',
      component: () => import('./pages/ConsolePage.vue'),
      meta: { roles: ['operator', 'admin'], title: '指挥台' },
    },
    {
      path: '/inspector',
      name: 'inspector',
      component: () => import('./pages/InspectorPage.vue'),
      meta: { roles: ['inspector', 'admin'], title: '我的任务' },
    },
    {
      path: '/entities/:id',
      name: 'entity',
      component: () => import('./pages/EntityPage.vue'),
      props: true,
      meta: { roles: ['operator', 'admin', 'inspector'], title: '一店一档' },
    },
    {
      path: '/:pathMatch(.*)*',
      name: 'not-found',
      component: () => import('./pages/NotFoundPage.vue'),
      meta: { title: '页面不存在' },
    },
  ],
})

function allowed(to: RouteLocationNormalized): true | { name: string; query: Record<string, string> } | string {
  const roles = to.meta.roles
  if (!roles) return true
  const session = loadSession()
  if (!session) return { name: 'login', query: { next: to.fullPath } }
  if (!roles.includes(session.role)) return homeFor(session.role) === to.path ? true : homeFor(session.role)
  return true
}

router.beforeEach((to) => allowed(to))

router.afterEach((to) => {
  document.title = to.meta.title ? `${to.meta.title} · 临汾路街道 社区大脑` : '临汾路街道 社区大脑'
})
