import './styles/main.css'; console.log('hi')
